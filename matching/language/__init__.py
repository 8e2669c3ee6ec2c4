"""Language: detection and the Danish-English glossary."""
