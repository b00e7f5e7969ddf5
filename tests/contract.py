"""The names of ../shared/design/CONTRACT.md that tests check against (never renamed)."""

RIGHTS_TOPICS = (
    "what_is_trafficking",
    "passport_taken",
    "unpaid_wages",
    "debt_bondage",
    "cannot_leave",
    "shelter_and_care",
    "legal_aid_compensation",
    "stay_and_work",
    "non_punishment",
    "go_home",
    "hotlines",
    "privacy",
    "job_offer_check",
)
INTENTS = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "unsure",
    "choose_language",
    "request_human",
    "in_danger",
    "start_screening",
    "forget_me",
    "bot_challenge",
    "out_of_scope",
    *(f"rights/{topic}" for topic in RIGHTS_TOPICS),
)
