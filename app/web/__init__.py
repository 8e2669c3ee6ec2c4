"""The curator web pages' shared parts: sign-in and CSRF, rendering, highlighting; `install` puts them on the app."""
