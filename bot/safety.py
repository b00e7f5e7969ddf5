"""Leaving quickly: the safe word, /exit and Telegram's exit button, and the first-contact notice
that tells a person about them."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.content import bubbles, gateway_texts
from hotline.language import EDGES, LANGUAGES, fold

EXIT_COMMAND = "/exit"
# "exit" typed alone, as people type it without the slash, means leaving quickly (not "stop the
# questions").
EXIT_WORD = "exit"
# Telegram's quick-exit button (a keyboard under the input field): the same in every language.
EXIT_BUTTON = "✕"


@dataclass(frozen=True)
class QuickExit:
    """What a person may send, alone, to leave quickly."""

    safe_word: str = ""

    def asked(self, text: str) -> bool:
        """Whether the message is the safe word, /exit, "exit" or the exit button."""
        words_typed = text.split(maxsplit=1)
        if words_typed and words_typed[0].split("@")[0].lower() == EXIT_COMMAND:
            return True
        texts = gateway_texts()
        words = [self.safe_word] if self.safe_word else [texts["safe_word"][x] for x in LANGUAGES]
        words += [EXIT_BUTTON, EXIT_WORD]
        return _fold(text) in {_fold(w) for w in words}

    def word(self, language: str) -> str:
        """The safe word to tell a person: the configured one, or the one of their language."""
        if self.safe_word or language not in LANGUAGES:
            return self.safe_word
        return gateway_texts()["safe_word"][language]

    def notice(self, channel: str, language: str, days: int) -> list[str]:
        """The first-contact notice as the messages it is sent as: what this is, who reads it, how
        long it is kept, how to erase it, then how to leave quickly, in the person's language (all
        three when unknown)."""
        texts = gateway_texts()
        shown = [language] if language in LANGUAGES else list(LANGUAGES)
        exit_line = texts.get(f"first_contact_{channel}") or texts["first_contact_web"]
        return [
            bubble
            for lang in shown
            for bubble in [
                *bubbles(texts["first_contact"][lang].format(days=days)),
                exit_line[lang].format(word=self.word(lang)),
            ]
        ]


def _fold(text: str) -> str:
    """Compared form: without outer spaces or punctuation, as the lexicon compares names."""
    return fold(EDGES.sub("", text) or text.strip())
