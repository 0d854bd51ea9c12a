"""Where a text label drawn in a slice view's image sits: inside the view, off the others.

Contour labels (:mod:`~tace_planner.ui.viewer.overlays`) and measurement and RECIST
axis labels (:mod:`~tace_planner.ui.viewer.tools`) are ``pg.TextItem`` s anchored at a
point of the image. Near an edge of a small view (one cell of 2×2 on a 1366 px
screen) they ran past it ("F1 short axis: 53.6 mm" cut at the right edge). One rule
places them all: try the anchors in order, keep the first that stays inside the view
and covers no label placed before; when none does, move the label inside and down
past the labels it covers. A lesion's RECIST labels (one block) have a single
arrangement, so they slide inside the view by what they overran.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF

Anchor = tuple[float, float]

LABEL_ANCHORS: tuple[Anchor, ...] = ((0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 0.0))
"""Where a label may sit by its point: above, above-left, below, below-left."""


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
    """Anchor ``texts`` (labels of one point) by the first arrangement that fits; add their boxes.

    An arrangement gives one anchor per text. The first whose boxes all stay inside
    the view and cover none of ``placed`` (scene pixels) nor each other wins. When
    none does, the first arrangement inside the view (else the first) is used and
    the labels are moved together inside the view and down past those they cover.
    """
    bounds = view_box.sceneBoundingRect()
    inside: Sequence[Anchor] | None = None
    for arrangement in arrangements:
        boxes = _anchored(view_box, texts, arrangement)
        if not all(bounds.contains(box) for box in boxes):
            continue
        inside = inside or arrangement
        if not _covers(boxes, placed):
            placed.extend(boxes)
            return
    _anchored(view_box, texts, inside or arrangements[0])
    nudge_inside(view_box, texts, placed, bounds)
    placed.extend(text_rect(view_box, text) for text in texts)


def nudge_inside(
    view_box: pg.ViewBox, texts: Sequence[pg.TextItem], placed: list[QRectF], bounds: QRectF
) -> None:
    """Move labels together inside ``bounds`` (scene pixels), then down off the ``placed`` ones.

    Moved as one block, the labels of one point keep their order and stay apart.
    """
    box = QRectF()
    for text in texts:
        box = box.united(text_rect(view_box, text))
    dx = max(0.0, bounds.left() - box.left()) or min(0.0, bounds.right() - box.right())
    dy = max(0.0, bounds.top() - box.top()) or min(0.0, bounds.bottom() - box.bottom())
    moved = box.translated(dx, dy)
    for _ in range(len(placed)):
        covered = [other for other in placed if moved.intersects(other)]
        if not covered:
            break
        below = max(other.bottom() for other in covered) + 1.0 - moved.top()
        if moved.bottom() + below > bounds.bottom():
            break
        moved.translate(0.0, below)
    for text in texts:
        scene = view_box.mapViewToScene(text.pos())
        scene.setX(scene.x() + moved.left() - box.left())
        scene.setY(scene.y() + moved.top() - box.top())
        text.setPos(view_box.mapSceneToView(scene))


def _anchored(
    view_box: pg.ViewBox, texts: Sequence[pg.TextItem], arrangement: Sequence[Anchor]
) -> list[QRectF]:
    for text, anchor in zip(texts, arrangement, strict=True):
        text.setAnchor(anchor)
    return [text_rect(view_box, text) for text in texts]


def _covers(boxes: list[QRectF], placed: list[QRectF]) -> bool:
    """True when a box covers a placed one or an earlier box of its own group."""
    return any(
        box.intersects(other) for n, box in enumerate(boxes) for other in [*placed, *boxes[:n]]
    )
