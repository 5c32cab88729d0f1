"""Built-in templates and stylesheets (a package only so that installs carry them)."""
