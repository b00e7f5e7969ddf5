"""What the Rasa components, the actions, the gateway and the console share: languages and content.

Pure Python; depends on nothing but PyYAML, so both environments (Rasa's Python 3.10 and the
services' Python 3.11) import it.
"""
