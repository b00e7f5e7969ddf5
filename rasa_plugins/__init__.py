"""Code that Rasa loads by name from config.yml and endpoints.yml: NLU components, tracker store."""

import warnings

from rasa_plugins import action_results

action_results.install()

# rights/* are retrieval intents whose topic LinearIntentClassifier picks; the answers come from
# content/rights.yaml through action_answer_rights, not from domain responses or a ResponseSelector.
# Rasa warns about both, once per example.
warnings.filterwarnings("ignore", message="Your training data contains an example .* 'rights/")
warnings.filterwarnings(
    "ignore", message="You have defined training data with examples for training a r"
)
# A person who types "/something" that is not an intent makes Rasa warn with the typed line in the
# message; logs must never hold what people wrote (SECURITY.md). Rasa reads the line as text anyway.
warnings.filterwarnings("ignore", message="Failed to parse arguments in line")
