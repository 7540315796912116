"""OAuth clients: registered applications with redirect URIs and, when confidential, a secret."""
