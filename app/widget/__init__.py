"""The widget: a form a cluster's website embeds, through which a visitor sends a need to the cluster."""
