"""Crop geometry for second-stage nets."""

from .crop import CropRegion, crop_around_face, eye_roll_angle, mirror_boxes, mirror_points

__all__ = ["CropRegion", "crop_around_face", "eye_roll_angle", "mirror_boxes", "mirror_points"]
