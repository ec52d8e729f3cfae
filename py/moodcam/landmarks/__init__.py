"""FaceMesh landmarks: MediaPipe's ROI front end, landmark mapping and tracking, face-part outlines."""

from .mesh import (FaceMeshTracker, LandmarkRequest, MeshConfig, MeshFace, MeshPlan, MeshResult, face_presence,
                   frame_to_landmarks, landmarks_to_frame, mesh_keypoints)
from .parts import (DEFAULT_LAYOUT, FACEMESH_PART_EDGES, KEY_POINTS, FacePartLayout, edges_to_paths, key_points, legend,
                    part_polygons)
from .roi import detection_roi, landmarks_roi

__all__ = [
    "FaceMeshTracker", "LandmarkRequest", "MeshConfig", "MeshFace", "MeshPlan", "MeshResult", "face_presence",
    "frame_to_landmarks", "landmarks_to_frame", "mesh_keypoints",
    "DEFAULT_LAYOUT", "FACEMESH_PART_EDGES", "KEY_POINTS", "FacePartLayout", "edges_to_paths", "key_points",
    "legend", "part_polygons", "detection_roi", "landmarks_roi",
]
