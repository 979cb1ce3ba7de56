"""The client against recorded answers of a real Open WebUI 0.12.4, and our daemon beside them."""
