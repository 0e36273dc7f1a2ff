"""Small meshes shared by the visualization tests."""
import numpy as np
import pytest


def make_uv_sphere(num_lon: int = 24, num_lat: int = 13, radius: float = 1.0):
    """Closed UV sphere with outward counter-clockwise faces in the x-right, y-down, z-forward frame."""
    theta = np.linspace(0.0, np.pi, num_lat)
    phi = np.linspace(0.0, 2.0 * np.pi, num_lon, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing='ij')
    vertices = radius * np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], -1).reshape(-1, 3)
    faces = []
    for i in range(num_lat - 1):
        for j in range(num_lon):
            a, b = i * num_lon + j, i * num_lon + (j + 1) % num_lon
            c, d = a + num_lon, b + num_lon
            faces += [[a, c, b], [b, c, d]]
    faces = np.asarray(faces, dtype=np.int64)
    # make every face point outwards (away from the centre) whatever the grid orientation
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    inward = np.einsum('ij,ij->i', normal, tri.mean(1)) < 0
    faces[inward] = faces[inward][:, ::-1]
    return vertices, faces


@pytest.fixture(scope='module')
def sphere_mesh():
    return make_uv_sphere()


def make_toy_body():
    """A crude pelvis-centred body (metres, y down) of ellipsoids: torso, head, arms, legs; (vertices, faces)."""
    unit_vertices, unit_faces = make_uv_sphere(16, 9)
    parts = [  # centre (x, y, z), radii (x, y, z)
        ((0.0, -0.25, 0.0), (0.17, 0.3, 0.1)), ((0.0, -0.68, 0.0), (0.1, 0.12, 0.1)),
        ((-0.28, -0.3, 0.0), (0.05, 0.28, 0.05)), ((0.28, -0.3, 0.0), (0.05, 0.28, 0.05)),
        ((-0.1, 0.42, 0.0), (0.07, 0.42, 0.07)), ((0.1, 0.42, 0.0), (0.07, 0.42, 0.07))
    ]
    vertices = np.concatenate([unit_vertices * radii + centre for centre, radii in parts])
    faces = np.concatenate([unit_faces + i * len(unit_vertices) for i in range(len(parts))])
    return vertices, faces


@pytest.fixture(scope='module')
def toy_body():
    return make_toy_body()
