"""The web page for people: server-rendered with Jinja2 and htmx."""
