"""Varied random backgrounds for the synthetic images.

Two styles (:data:`BACKGROUND_STYLES`):

* ``'plain'`` (default): a two-colour gradient in a random direction with light pixel grain. The colours vary from
  image to image, but nothing in the background looks like a limb, so a network trained from scratch for a few
  hundred CPU iterations can find the body.
* ``'cluttered'``: gradient / smooth colour noise, stronger grain and up to 8 random circles, boxes and thick lines
  (distractors shaped like limbs): a harder set for longer runs.
"""
import cv2
import numpy as np


def _random_color(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, size=3)


def gradient(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Linear blend of two random colours along a random direction, (H, W, 3) float32."""
    angle = rng.uniform(0, 2 * np.pi)
    xs = np.arange(width, dtype=np.float32)[None, :] / width
    ys = np.arange(height, dtype=np.float32)[:, None] / height
    t = np.cos(angle) * xs + np.sin(angle) * ys
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    a, b = _random_color(rng), _random_color(rng)
    return (a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]).astype(np.float32)


def smooth_noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Low-frequency colour noise (random coarse grid, bicubic up-sampling), (H, W, 3) float32."""
    cells = int(rng.integers(2, 9))
    coarse = rng.uniform(0, 255, size=(cells, cells, 3)).astype(np.float32)
    return np.clip(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC), 0, 255)


def draw_shapes(rng: np.random.Generator, image: np.ndarray, count: int) -> np.ndarray:
    """Draw ``count`` random filled circles / rectangles / thick lines onto a uint8 image (in place)."""
    height, width = image.shape[:2]
    for _ in range(count):
        color = tuple(int(c) for c in _random_color(rng))
        kind = int(rng.integers(0, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(max(4, width // 32), max(5, width // 4)))
        if kind == 0:
            cv2.circle(image, (x, y), size, color, -1, lineType=cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(image, (x, y), (x + size, y + int(rng.integers(4, size + 5))), color, -1)
        else:
            x2, y2 = int(rng.integers(0, width)), int(rng.integers(0, height))
            cv2.line(image, (x, y), (x2, y2), color, int(rng.integers(1, 8)), lineType=cv2.LINE_AA)
    return image


#: valid ``style`` values of :func:`random_background`
BACKGROUND_STYLES = ('plain', 'cluttered')


def plain_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random (H, W, 3) uint8 BGR background: a two-colour gradient with light pixel grain."""
    base = gradient(rng, height, width)
    base += rng.normal(0.0, rng.uniform(0.0, 6.0), size=(height, width, 1)).astype(np.float32)
    return np.clip(base, 0, 255).astype(np.uint8)


def cluttered_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random (H, W, 3) uint8 BGR background: gradient and/or smooth noise, pixel grain, random shapes."""
    weight = rng.uniform(0.0, 1.0)
    base = weight * gradient(rng, height, width) + (1 - weight) * smooth_noise(rng, height, width)
    base += rng.normal(0.0, rng.uniform(0.0, 12.0), size=(height, width, 1)).astype(np.float32)
    image = np.clip(base, 0, 255).astype(np.uint8)
    return draw_shapes(rng, image, int(rng.integers(0, 9)))


def random_background(rng: np.random.Generator, height: int, width: int, style: str = 'plain') -> np.ndarray:
    """A random (H, W, 3) uint8 BGR background of the given ``style`` (see the module docstring)."""
    if style == 'plain':
        return plain_background(rng, height, width)
    if style == 'cluttered':
        return cluttered_background(rng, height, width)
    raise ValueError(f'random_background: unknown style {style!r}; choose one of {BACKGROUND_STYLES}')
