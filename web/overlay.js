// Boxes and labels over an image. Positions are percentages of the image the boxes were measured
// on (the upright original, in pixels), so they stay on their objects at any displayed size, while
// strokes and text keep a readable size in CSS pixels.

const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

const pct = (value, of) => `${((value / of) * 100).toFixed(3)}%`;

/**
 * Draws every detection into `svg` (which covers its image exactly); `width`×`height`: the boxes' pixel space.
 * `byClass`: the kinds whose detections are named by their class (objects), not by their kind.
 */
export function drawDetections(svg, detections, width, height, byClass = new Set(['object'])) {
  svg.replaceChildren();
  for (const d of detections) {
    const { x, y, width: w, height: h } = d.box;
    const group = el('g', { class: `det det-${d.kind}` });
    const title = el('title', {});
    title.textContent = `${d.kind} ${d.label} ${d.score.toFixed(2)}${d.blurred ? ' (blurred)' : ''}`;
    group.append(title);
    group.append(el('rect', { x: pct(x, width), y: pct(y, height), width: pct(w, width), height: pct(h, height) }));
    // Faces and plates: above the box when there is room, else inside its top edge. Objects (large,
    // often around a face): inside their bottom edge, so the two kinds of label do not collide.
    const above = y / height > 0.04;
    const text = byClass.has(d.kind)
      ? el('text', { x: pct(x, width), y: pct(y + h, height), dx: 3, dy: -5 })
      : el('text', { x: pct(x, width), y: pct(y, height), dx: 1, dy: above ? -4 : 13 });
    text.textContent = `${byClass.has(d.kind) ? d.label : d.kind} ${Math.round(d.score * 100)}%`;
    group.append(text);
    svg.append(group);
  }
}
