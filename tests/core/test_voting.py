import numpy as np
import pytest

from moodcam.mood.labels import EMOTIONS
from moodcam.mood.voting import ConsecutiveVoting, MarginVoting, MovingAverageVoting, Voter, voting_config


def probs(label, p):
    v = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1))
    v[EMOTIONS.index(label)] = p
    return v


def test_labels_are_the_fer_order():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_consecutive_needs_threshold_and_three_agreeing_votes():
    v = Voter(voting_config("strict"))
    assert v.config == ConsecutiveVoting(threshold=0.8, agree=3)  # seed 004's rule
    assert v.feed(probs("happy", 0.9)).uncertain
    assert v.feed(probs("happy", 0.95)).uncertain
    vote = v.feed(probs("happy", 0.85))
    assert vote.label == "happy" and vote.probability == pytest.approx(0.85)
    # Below the threshold: uncertain even though the top label agrees.
    assert v.feed(probs("happy", 0.79)).uncertain
    assert v.feed(probs("happy", 0.81)).label == "happy"
    # A different top label breaks the run.
    vote = v.feed(probs("sad", 0.99))
    assert vote.uncertain and vote.top_label == "sad"
    assert v.feed(probs("happy", 0.9)).uncertain


def test_consecutive_is_configurable():
    v = Voter(ConsecutiveVoting(threshold=0.5, agree=1))
    assert v.feed(probs("fear", 0.55)).label == "fear"


def test_moving_average():
    v = Voter(MovingAverageVoting(threshold=0.6, window=3))
    assert v.feed(probs("sad", 0.9)).label == "sad"
    v.feed(probs("happy", 0.9))
    assert v.current.uncertain  # mean of sad and happy is 0.5 at most
    v.feed(probs("happy", 0.9))
    vote = v.feed(probs("happy", 0.6))
    assert vote.label == "happy" and vote.probability == pytest.approx(0.8)


def test_margin():
    v = Voter(MarginVoting(margin=0.3, min_probability=0.4))
    p = np.array([0.55, 0.2, 0.1, 0.05, 0.05, 0.03, 0.02])
    assert v.feed(p).label == "angry"
    p2 = np.array([0.45, 0.2, 0.1, 0.0, 0.0, 0.0, 0.25])
    assert v.feed(p2).uncertain  # 0.45 - 0.25 < 0.3


def test_config_by_name_and_errors():
    assert voting_config("margin", margin=0.2) == MarginVoting(margin=0.2)
    with pytest.raises(ValueError, match="unknown voting strategy"):
        voting_config("majority")
    with pytest.raises(ValueError, match="threshold"):
        ConsecutiveVoting(threshold=80)
    with pytest.raises(ValueError, match="expected 7 probabilities"):
        Voter().feed([0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        Voter().feed([np.nan] * 7)
