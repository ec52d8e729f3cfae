"""Mood: emotion labels, per-face voting, the mood state machine and how moods are shown."""

from .labels import EMOTIONS
from .state import CANT_TELL, MoodConfig, MoodSnapshot, MoodStateMachine
from .voting import (DEFAULT_VOTING, ConsecutiveVoting, EmaVoting, MarginVoting, MovingAverageVoting, Voter,
                     voting_config)

__all__ = ["EMOTIONS", "CANT_TELL", "MoodConfig", "MoodSnapshot", "MoodStateMachine", "DEFAULT_VOTING",
           "ConsecutiveVoting", "EmaVoting", "MarginVoting", "MovingAverageVoting", "Voter", "voting_config"]
