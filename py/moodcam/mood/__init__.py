"""Mood: emotion labels, per-face voting, the mood state machine and how moods are shown."""

from .labels import EMOTIONS
from .state import MoodConfig, MoodStateMachine
from .voting import ConsecutiveVoting, MarginVoting, MovingAverageVoting, Voter, voting_config

__all__ = ["EMOTIONS", "MoodConfig", "MoodStateMachine", "ConsecutiveVoting", "MarginVoting",
           "MovingAverageVoting", "Voter", "voting_config"]
