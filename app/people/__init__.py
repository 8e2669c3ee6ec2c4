"""People who sign in to the web pages: accounts, passwords and their commands."""
