"""Code that Rasa loads by name from config.yml and endpoints.yml: NLU components, tracker store."""

import warnings

from rasa_plugins import action_results

action_results.install()

# Rights answers come from content/rights.yaml through action_answer_rights, not from domain
# responses: the ResponseSelector only picks the topic, and has no response text to fetch.
warnings.filterwarnings("ignore", message="Unable to fetch responses for rights/")
