"""Code that Rasa loads by name from config.yml and endpoints.yml: NLU components, tracker store."""
