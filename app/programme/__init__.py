"""The programme's picture for facilitators and its report for funders."""
