"""How each mood is shown: a prompt, a colour, a symbol and a name.

Colours come from the Okabe-Ito palette (Okabe and Ito, "Color Universal
Design", 2008), chosen to stay distinguishable with the common forms of colour
blindness. Colour is never the only cue: every entry also has a name and a
symbol. ``text_color`` is black or white, whichever contrasts more with the
background colour (WCAG relative luminance).

Every colour in OKABE_ITO (grey and black included) is taken, so "can't tell" uses a light neutral grey
(NEUTRAL_LIGHT_GREY, no hue, so it reads the same with every colour-vision type)
clearly lighter than the palette's grey (observing) and far from black (no face),
with its own symbol "?" and name. ``headline(snapshot)`` writes the line to show,
e.g. "Can't tell, maybe neutral, 54 %".
"""

from __future__ import annotations

from dataclasses import dataclass

from .state import CANT_TELL, MOOD, NO_FACE, OBSERVING, PAUSED, STARTING, STATES, MoodSnapshot

__all__ = ["Presentation", "PRESENTATIONS", "OKABE_ITO", "NEUTRAL_LIGHT_GREY", "presentation_for", "headline",
           "contrast_text_color"]

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
NEUTRAL_LIGHT_GREY = "#D4D4D4"   # not Okabe-Ito: a hueless grey for "can't tell" (all nine are in use)


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_text_color(background_hex: str) -> str:
    """'#000000' or '#FFFFFF', whichever has the higher WCAG contrast ratio on ``background_hex``."""
    lum = _luminance(background_hex)
    on_black = (lum + 0.05) / 0.05
    on_white = 1.05 / (lum + 0.05)
    return "#000000" if on_black >= on_white else "#FFFFFF"


@dataclass(frozen=True)
class Presentation:
    key: str
    name: str
    prompt: str
    color: str
    symbol: str

    @property
    def text_color(self) -> str:
        return contrast_text_color(self.color)


PRESENTATIONS: dict[str, Presentation] = {
    p.key: p
    for p in (
        Presentation("angry", "Angry", "Something's bothering you. Take a slow breath.", OKABE_ITO["vermillion"], "😠"),
        Presentation("disgust", "Disgusted", "Not a fan of that, are you?", OKABE_ITO["bluish_green"], "🤢"),
        Presentation("fear", "Afraid", "Everything okay? You're safe here.", OKABE_ITO["reddish_purple"], "😨"),
        Presentation("happy", "Happy", "You look happy. Keep smiling!", OKABE_ITO["yellow"], "😄"),
        Presentation("sad", "Sad", "Feeling down? Be kind to yourself today.", OKABE_ITO["blue"], "😢"),
        Presentation("surprise", "Surprised", "Whoa, something surprised you!", OKABE_ITO["orange"], "😮"),
        Presentation("neutral", "Neutral", "Calm and steady.", OKABE_ITO["sky_blue"], "😐"),
        Presentation(OBSERVING, "Observing", "Reading your expression…", OKABE_ITO["grey"], "…"),
        Presentation(CANT_TELL, "Can't tell", "Hard to read right now. Try more light, or face the camera.",
                     NEUTRAL_LIGHT_GREY, "?"),
        Presentation(NO_FACE, "No face", "No face in view. Look at the camera.", OKABE_ITO["black"], "∅"),
        Presentation(STARTING, "Starting", "Starting up…", OKABE_ITO["grey"], "⏳"),
        Presentation(PAUSED, "Paused", "Paused while the page is hidden.", OKABE_ITO["grey"], "⏸"),
    )
}

def colour_of(key: str) -> str:
    """A mood's or state's colour (PRESENTATIONS), grey for a key it does not know."""
    p = PRESENTATIONS.get(key)
    return p.color if p is not None else "#999999"


def name_of(key: str) -> str:
    """A mood's or state's name for people ("can't tell"), the key's words for one it does not know."""
    p = PRESENTATIONS.get(key)
    return p.name if p is not None else key.replace("_", " ")


def presentation_for(snapshot: MoodSnapshot) -> Presentation:
    """The entry for a state snapshot: the mood's own entry in the mood state, else the state's."""
    if snapshot.state == MOOD and snapshot.mood is not None:
        try:
            return PRESENTATIONS[snapshot.mood]
        except KeyError:
            raise ValueError(f"no presentation for mood {snapshot.mood!r}; add it to PRESENTATIONS") from None
    return PRESENTATIONS[snapshot.state]


def headline(snapshot: MoodSnapshot) -> str:
    """The words for a snapshot: "Happy", "Can't tell, maybe neutral, 54 %", "Observing", ...

    The mood's or state's name, plus the leading guess and its probability in can't tell
    (just "Can't tell" before any emotion output).
    """
    p = presentation_for(snapshot)
    if snapshot.state == CANT_TELL and snapshot.leading_label is not None:
        guess = PRESENTATIONS[snapshot.leading_label].name.lower() if snapshot.leading_label in PRESENTATIONS \
            else snapshot.leading_label
        return f"{p.name}, maybe {guess}, {round(100 * snapshot.leading_probability)} %"
    return p.name


assert all(state in PRESENTATIONS for state in STATES if state != MOOD), "every state needs a presentation"
