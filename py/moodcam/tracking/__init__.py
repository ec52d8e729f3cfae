"""Face tracking: stable ids across frames and One Euro smoothing."""

from .one_euro import OneEuroConfig, OneEuroFilter
from .tracker import FaceTracker, Track, TrackerConfig

__all__ = ["OneEuroConfig", "OneEuroFilter", "FaceTracker", "Track", "TrackerConfig"]
