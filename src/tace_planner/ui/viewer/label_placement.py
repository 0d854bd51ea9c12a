"""Where a text label drawn in a slice view's image sits: inside the view, off the others.

Contour labels (:mod:`~tace_planner.ui.viewer.overlays`) and measurement and RECIST
axis labels (:mod:`~tace_planner.ui.viewer.tools`) are ``pg.TextItem`` s anchored at a
point of the image. Near an edge of a small view (one cell of 2×2 on a 1366 px
screen) they ran past it ("F1 short axis: 53.6 mm" cut at the right edge). One rule
places them all: try the anchors in order, keep the first that stays inside the view
and covers no label placed before; when none does, move the label inside and down
(else up) past the labels it covers. A lesion's RECIST labels (one block) have a single
arrangement, so they slide inside the view by what they overran.

The two layers are placed as one: the measurement layer leads (:func:`place_group`),
and each time it has placed labels the contour labels of the same view box are placed
again around them (:func:`follow_labels`, :func:`place_after_others`), so an "F1" no
longer sits on "F1 long axis: 42.3 mm". The value shown while a measurement is drawn
(:func:`place_transient`) follows the same rule and is avoided by no one: it moves with
the mouse, and the labels around it stay still.

The labels keep off the extent of each lesion's RECIST axes (:func:`set_obstacles`):
placed on the lesion, "F1 long axis: 42.3 mm" and "F1 short axis: 16.0 mm" hid half of
it and the calliper ends, so the reader could not check where the axes lie. They go
beside that extent when the view has room there, else as before.

They also keep off the other lesions shown on the plane (:func:`set_extents`): in the
sagittal view "F7" sat on the red F1 while the yellow F7 lay below-left of it, and in
2×2 "F1 short axis: 52.9 mm" hid the small F4. A contour label keeps off every other
lesion's extent (it may touch its own: it sits at its structure's edge), a measurement
label off every lesion's extent; the liver, which fills most of the view, is no
obstacle. A contour label also keeps off the inside of its own lesion where it can.
Where no free place is left inside the view, the rule above applies alone.

The rule itself (:func:`place_boxes`) works on plain rectangles in scene pixels and
needs no Qt.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF

Anchor = tuple[float, float]
Point = tuple[float, float]
Size = tuple[float, float]
Box = tuple[float, float, float, float]
"""A label's rectangle: left, top, width, height (scene pixels, y down)."""

LABEL_ANCHORS: tuple[Anchor, ...] = ((0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 0.0))
"""Where a label may sit by its point: above, above-left, below, below-left."""
OBSTACLE_MARGIN_PX = 4.0
"""How far a label keeps off the extent of a lesion's RECIST axes, in screen pixels."""


# ---------------------------------------------------------------- the rule (no Qt)
def anchored_box(point: Point, size: Size, anchor: Anchor) -> Box:
    """The box of a label of ``size`` whose ``anchor`` (fractions of its size) is at ``point``."""
    width, height = size
    return (point[0] - anchor[0] * width, point[1] - anchor[1] * height, width, height)


def boxes_intersect(a: Box, b: Box) -> bool:
    """True when two boxes share some area (touching edges do not count)."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def box_inside(bounds: Box, box: Box) -> bool:
    """True when ``box`` lies within ``bounds`` (edges included, to a rounding error)."""
    eps = _ROUNDING_PX
    return (
        box[0] >= bounds[0] - eps
        and box[1] >= bounds[1] - eps
        and box[0] + box[2] <= bounds[0] + bounds[2] + eps
        and box[1] + box[3] <= bounds[1] + bounds[3] + eps
    )


_ROUNDING_PX = 1e-6
"""A box moved to touch an edge may pass it by a rounding error of its coordinates."""


def place_boxes(
    points: Sequence[Point],
    sizes: Sequence[Size],
    arrangements: Sequence[Sequence[Anchor]],
    bounds: Box,
    placed: Sequence[Box],
    avoid: Sequence[Box] = (),
    prefer_off: Sequence[Sequence[Box]] = (),
) -> tuple[Sequence[Anchor], list[Box]]:
    """The arrangement and boxes of one point's labels: inside ``bounds``, off ``placed``.

    ``prefer_off`` holds groups of boxes the labels keep off when they can, the most
    wanted first (the extents of the other lesions on the plane, then the inside of
    the label's own lesion): the rule below is first applied with every group added
    to ``avoid`` and its result kept when it lies inside ``bounds`` and covers none of
    ``placed``, ``avoid`` and those groups; else the last group is dropped and so on,
    down to the rule without any.

    An arrangement gives one anchor per label. The first whose boxes all stay inside
    ``bounds`` and cover none of ``placed``, ``avoid`` nor each other wins. ``avoid``
    holds what the reader must see whole (the extent of a lesion's RECIST axes with a
    margin): when every arrangement covers one of them, the labels go as one block
    beside it — right, left, below or above, the place nearest the point — if such a
    place is free inside ``bounds``. When none is, the first arrangement inside (else
    the first) is used and its boxes are moved together inside ``bounds``, then down
    past the boxes of ``placed`` they cover, else up past them; where neither frees
    them, they stay inside at the nearest place.
    """
    for count in range(len(prefer_off), 0, -1):
        strict = [*avoid, *(box for group in prefer_off[:count] for box in group)]
        arrangement, boxes = place_boxes(points, sizes, arrangements, bounds, placed, strict)
        if all(box_inside(bounds, box) for box in boxes) and not _covers(boxes, [*placed, *strict]):
            return arrangement, boxes
    inside: Sequence[Anchor] | None = None
    hit: list[Box] = []  # the avoid boxes that some arrangement inside covers
    for arrangement in arrangements:
        boxes = [anchored_box(p, s, a) for p, s, a in zip(points, sizes, arrangement, strict=True)]
        if not all(box_inside(bounds, box) for box in boxes):
            continue
        inside = inside or arrangement
        if not _covers(boxes, [*placed, *avoid]):
            return arrangement, boxes
        hit += [o for o in avoid if o not in hit and any(boxes_intersect(b, o) for b in boxes)]
    arrangement = inside or arrangements[0]
    boxes = [anchored_box(p, s, a) for p, s, a in zip(points, sizes, arrangement, strict=True)]
    if inside is None:
        hit = [o for o in avoid if any(boxes_intersect(b, o) for b in boxes)]
    beside = _beside(points[0], boxes, bounds, [*placed, *avoid], hit)
    if beside is not None:
        return arrangement, beside
    return arrangement, _moved_clear(boxes, placed, bounds)


def _beside(
    point: Point, boxes: list[Box], bounds: Box, taken: Sequence[Box], avoid: Sequence[Box]
) -> list[Box] | None:
    """``boxes`` moved as one block beside one of ``avoid``, the place nearest ``point``.

    ``avoid`` holds the boxes the point's arrangements covered. The block is tried on
    each side of each (right, left, below, above), level with the point or with the
    box's ends, kept inside ``bounds``; None when every place covers one of ``taken``.
    """
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    width = max(b[0] + b[2] for b in boxes) - left
    height = max(b[1] + b[3] for b in boxes) - top
    best: tuple[float, list[Box]] | None = None
    for obstacle in avoid:
        for x, y in _sides(obstacle, (width, height), point):
            x = min(max(x, bounds[0]), bounds[0] + bounds[2] - width)
            y = min(max(y, bounds[1]), bounds[1] + bounds[3] - height)
            moved = [(x + (b[0] - left), y + (b[1] - top), b[2], b[3]) for b in boxes]
            if not all(box_inside(bounds, box) for box in moved) or _covers(moved, taken):
                continue
            distance = _distance(point, (x, y, width, height))
            if best is None or distance < best[0]:
                best = (distance, moved)
    return None if best is None else best[1]


def _sides(obstacle: Box, size: Size, point: Point) -> list[Point]:
    """Top-left corners of a block of ``size`` touching ``obstacle`` from outside."""
    left, top, width, height = obstacle
    block_width, block_height = size
    along_x = (point[0], point[0] - block_width, left, left + width - block_width)
    along_y = (point[1] - block_height / 2, point[1] - block_height, point[1], top)
    corners = [(left + width, y) for y in along_y]  # right
    corners += [(left - block_width, y) for y in along_y]  # left
    corners += [(x, top + height) for x in along_x]  # below
    corners += [(x, top - block_height) for x in along_x]  # above
    return corners


def _distance(point: Point, box: Box) -> float:
    """From ``point`` to the nearest point of ``box`` (0 inside it)."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[0] - box[2])
    dy = max(box[1] - point[1], 0.0, point[1] - box[1] - box[3])
    return float((dx * dx + dy * dy) ** 0.5)


def _moved_clear(boxes: list[Box], placed: Sequence[Box], bounds: Box) -> list[Box]:
    """``boxes`` moved as one block inside ``bounds``, then off ``placed`` if it can be."""
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    dx = max(0.0, bounds[0] - left) or min(0.0, bounds[0] + bounds[2] - right)
    dy = max(0.0, bounds[1] - top) or min(0.0, bounds[1] + bounds[3] - bottom)
    block = (left + dx, top + dy, right - left, bottom - top)
    for downwards in (True, False):
        moved = block
        for _ in range(len(placed) + 1):
            covered = [other for other in placed if boxes_intersect(moved, other)]
            if not covered:
                return [(b[0] + dx, b[1] + dy + moved[1] - block[1], b[2], b[3]) for b in boxes]
            if downwards:
                step = max(o[1] + o[3] for o in covered) + 1.0 - moved[1]
            else:
                step = min(o[1] for o in covered) - 1.0 - (moved[1] + moved[3])
            moved = (moved[0], moved[1] + step, moved[2], moved[3])
            if not box_inside(bounds, moved):
                break
    return [(b[0] + dx, b[1] + dy, b[2], b[3]) for b in boxes]


def _covers(boxes: list[Box], placed: Sequence[Box]) -> bool:
    """True when a box covers a placed one or an earlier box of its own group."""
    return any(
        boxes_intersect(box, other)
        for n, box in enumerate(boxes)
        for other in [*placed, *boxes[:n]]
    )


# ---------------------------------------------------------------- labels of a view box
def text_rect(view_box: pg.ViewBox, text: pg.TextItem) -> QRectF:
    """The label's box on screen, in scene pixels (a TextItem ignores the view's zoom)."""
    point = view_box.mapViewToScene(text.pos())
    size = text.boundingRect()
    return QRectF(
        point.x() - text.anchor.x() * size.width(),
        point.y() - text.anchor.y() * size.height(),
        size.width(),
        size.height(),
    )


def place_group(
    view_box: pg.ViewBox,
    texts: Sequence[pg.TextItem],
    arrangements: Sequence[Sequence[Anchor]],
    placed: list[QRectF],
) -> None:
    """Anchor ``texts`` (labels of one point) by :func:`place_boxes`; add their boxes.

    ``placed`` holds the boxes (scene pixels) of the labels placed before in the
    same pass. The labels that follow this view box's (contours) are placed again
    around the result.
    """
    extents = [extent_boxes(view_box)]
    _place(view_box, texts, arrangements, placed, obstacle_boxes(view_box), extents)
    relayout_followers(view_box)


def place_after_others(
    view_box: pg.ViewBox, texts: Sequence[pg.TextItem], arrangements: Sequence[Sequence[Anchor]]
) -> None:
    """Place each of ``texts`` in turn, off the other labels shown in ``view_box`` and each other.

    The labels of the leading layer (measurements) keep their places; the value of a
    measurement being drawn is not avoided (it moves with the mouse).
    """
    placed = other_label_rects(view_box, texts)
    avoid = obstacle_boxes(view_box)
    for text in texts:
        extents = [extent_boxes(view_box, text), own_extent_inside(view_box, text)]
        _place(view_box, [text], arrangements, placed, avoid, extents)


def place_transient(view_box: pg.ViewBox, text: pg.TextItem) -> None:
    """Keep a label that follows the mouse (a live length) inside the view, off the others."""
    _TRANSIENT.add(text)
    _place(view_box, [text], [(anchor,) for anchor in LABEL_ANCHORS], other_label_rects(view_box))


def other_label_rects(view_box: pg.ViewBox, exclude: Iterable[pg.TextItem] = ()) -> list[QRectF]:
    """Boxes (scene pixels) of the labels shown in ``view_box``, but ``exclude`` and live values."""
    skip = {id(text) for text in exclude} | {id(text) for text in _TRANSIENT}
    return [
        text_rect(view_box, item)
        for item in list(view_box.addedItems)
        if isinstance(item, pg.TextItem)
        and id(item) not in skip
        and item.isVisible()
        and item.toPlainText()
    ]


def set_obstacles(view_box: pg.ViewBox, rects: Sequence[QRectF]) -> None:
    """What the labels of ``view_box`` keep off: ``rects`` in view coordinates (mm).

    The measurement layer gives the extent of each lesion's RECIST axes, so that no
    label (the axes' own, the contour's "F1") hides where the calliper lines lie.
    """
    _OBSTACLES[view_box] = [QRectF(rect) for rect in rects]


def obstacle_boxes(view_box: pg.ViewBox) -> list[Box]:
    """The obstacles of ``view_box`` on screen (scene pixels), :data:`OBSTACLE_MARGIN_PX` wider."""
    return _scene_boxes(view_box, _OBSTACLES.get(view_box, ()))


def _scene_boxes(view_box: pg.ViewBox, rects: Iterable[QRectF]) -> list[Box]:
    margin = OBSTACLE_MARGIN_PX
    boxes = []
    for rect in rects:
        scene = view_box.mapViewToScene(rect).boundingRect()
        boxes.append(_box(scene.adjusted(-margin, -margin, margin, margin)))
    return boxes


def set_extents(view_box: pg.ViewBox, extents: Sequence[tuple[QRectF, pg.TextItem | None]]) -> None:
    """The lesions shown on the plane of ``view_box``: each one's extent (view mm), its label.

    A label keeps off these extents where the view has room (see ``prefer_off`` in
    :func:`place_boxes`), but for its own lesion's (the label given with the extent; None
    when the lesion shows none). The caller leaves out what is no obstacle (the liver).
    """
    _EXTENTS[view_box] = [
        (QRectF(rect), None if text is None else id(text)) for rect, text in extents
    ]


def extent_boxes(view_box: pg.ViewBox, own: pg.TextItem | None = None) -> list[Box]:
    """The extents of :func:`set_extents` but ``own``'s, on screen, a margin wider."""
    own_id = None if own is None else id(own)
    rects = [r for r, owner in _EXTENTS.get(view_box, ()) if owner is None or owner != own_id]
    return _scene_boxes(view_box, rects)


def own_extent_inside(view_box: pg.ViewBox, text: pg.TextItem) -> list[Box]:
    """The extent of ``text``'s own lesion on screen, :data:`OBSTACLE_MARGIN_PX` narrower.

    A contour label sits at its lesion's top edge and may touch it there; it keeps off
    the rest when it can (in the coronal view "F1" hid half of F1). Empty when the
    lesion is too small to have an inside.
    """
    margin = OBSTACLE_MARGIN_PX
    boxes = []
    for rect, owner in _EXTENTS.get(view_box, ()):
        if owner == id(text):
            scene = view_box.mapViewToScene(rect).boundingRect()
            inner = scene.adjusted(margin, margin, -margin, -margin)
            if inner.width() > 0 and inner.height() > 0:
                boxes.append(_box(inner))
    return boxes


def follow_labels(view_box: pg.ViewBox, relayout: Callable[[], None]) -> None:
    """Call ``relayout`` (a bound method) after each :func:`place_group` in ``view_box``.

    The follower places its labels with :func:`place_after_others`. Held weakly: a
    layer that goes is forgotten.
    """
    _FOLLOWERS.setdefault(view_box, []).append(weakref.WeakMethod(relayout))  # type: ignore[arg-type]


def lead_labels(view_box: pg.ViewBox, relayout: Callable[[], None]) -> None:
    """Call ``relayout`` (a bound method) on :func:`relayout_leaders` of ``view_box``.

    The leading layer (measurements) registers here, so that its labels are placed
    again when the lesions shown change without a change of plane (a mask painted or
    shown after the axes were drawn). Held weakly.
    """
    _LEADERS.setdefault(view_box, []).append(weakref.WeakMethod(relayout))  # type: ignore[arg-type]


def relayout_leaders(view_box: pg.ViewBox) -> None:
    """Place the leading labels of ``view_box`` again (they place their followers)."""
    _call_each(_LEADERS, view_box)


def _call_each(table: _Relayouts, view_box: pg.ViewBox) -> None:
    for method in list(table.get(view_box, ())):
        relayout = method()
        if relayout is not None:
            relayout()


_Relayouts = weakref.WeakKeyDictionary[pg.ViewBox, list[weakref.WeakMethod[Callable[[], None]]]]
_FOLLOWERS: _Relayouts = weakref.WeakKeyDictionary()
_LEADERS: _Relayouts = weakref.WeakKeyDictionary()
_TRANSIENT: weakref.WeakSet[pg.TextItem] = weakref.WeakSet()
_OBSTACLES: weakref.WeakKeyDictionary[pg.ViewBox, list[QRectF]] = weakref.WeakKeyDictionary()
_EXTENTS: weakref.WeakKeyDictionary[pg.ViewBox, list[tuple[QRectF, int | None]]]
_EXTENTS = weakref.WeakKeyDictionary()
_BUSY: set[int] = set()


def relayout_followers(view_box: pg.ViewBox) -> None:
    """Place the following labels of ``view_box`` again (once; a nested call does nothing)."""
    if id(view_box) in _BUSY:
        return
    _BUSY.add(id(view_box))
    try:
        _call_each(_FOLLOWERS, view_box)
    finally:
        _BUSY.discard(id(view_box))


def _place(
    view_box: pg.ViewBox,
    texts: Sequence[pg.TextItem],
    arrangements: Sequence[Sequence[Anchor]],
    placed: list[QRectF],
    avoid: Sequence[Box] = (),
    prefer_off: Sequence[Sequence[Box]] = (),
) -> None:
    points, sizes = [], []
    for text in texts:
        point = view_box.mapViewToScene(text.pos())
        size = text.boundingRect()
        points.append((point.x(), point.y()))
        sizes.append((size.width(), size.height()))
    arrangement, boxes = place_boxes(
        points,
        sizes,
        arrangements,
        _box(view_box.sceneBoundingRect()),
        [_box(r) for r in placed],
        avoid,
        prefer_off,
    )
    for text, anchor, (left, top, width, height) in zip(texts, arrangement, boxes, strict=True):
        text.setAnchor(anchor)
        scene = QPointF(left + anchor[0] * width, top + anchor[1] * height)
        text.setPos(view_box.mapSceneToView(scene))
        placed.append(QRectF(left, top, width, height))


def _box(rect: QRectF) -> Box:
    return (rect.left(), rect.top(), rect.width(), rect.height())
