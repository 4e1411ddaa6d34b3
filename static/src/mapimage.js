// mapimage: the map drawn into one image of a size of our own (for paper:
// more pixels than the screen has) over an extent. The map is given that
// size for a moment, drawn with everything it shows (tiles, labels, the
// highlights), and its layers' canvases — each with its opacity and place —
// are laid onto one canvas; then the map goes back to the screen's size and
// view. A basemap served without CORS would make the canvas unreadable:
// the image is then made without it.

const WAIT_MS = 30000; // a tile server that never answers does not hold the report forever

function drawn(map) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, WAIT_MS);
    map.once('rendercomplete', () => {
      clearTimeout(timer);
      resolve();
    });
    map.render();
  });
}

// The layers' canvases in drawing order, onto one canvas of width x height.
function compose(map, width, height, background) {
  const out = document.createElement('canvas');
  out.width = width;
  out.height = height;
  const ctx = out.getContext('2d');
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, width, height);
  for (const canvas of map.getViewport().querySelectorAll('.ol-layer canvas, canvas.ol-layer')) {
    if (!canvas.width || !canvas.height) continue;
    const opacity = canvas.parentNode.style.opacity || canvas.style.opacity;
    ctx.globalAlpha = opacity === '' ? 1 : Number(opacity);
    // the canvas holds device pixels; its CSS transform places them on the map
    const m = /^matrix\(([^)]*)\)$/.exec(canvas.style.transform || '');
    const matrix = m ? m[1].split(',').map(Number) : [width / canvas.width, 0, 0, height / canvas.height, 0, 0];
    ctx.setTransform(...matrix);
    ctx.drawImage(canvas, 0, 0);
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalAlpha = 1;
  return out;
}

// Draws app's map at width x height pixels over extent (map coordinates;
// padding in pixels) and resolves with {url (PNG data URL), resolution (map
// units per image pixel), center, basemap (whether it is in the image)}.
export async function mapImage(app, { width, height, extent, padding = [0, 0, 0, 0] }) {
  const { map, view } = app;
  const before = { center: view.getCenter(), resolution: view.getResolution() };
  const shown = app.basemaps.filter((b) => b.getVisible());
  const background = getComputedStyle(map.getTargetElement()).backgroundColor || '#ffffff';
  try {
    map.setSize([width, height]);
    view.fit(extent, { size: [width, height], padding });
    await drawn(map);
    let canvas = compose(map, width, height, background);
    let url;
    try {
      url = canvas.toDataURL('image/png');
    } catch (e) {
      if (e.name !== 'SecurityError' || !shown.length) throw e;
      shown.forEach((b) => b.setVisible(false));
      await drawn(map);
      canvas = compose(map, width, height, background);
      url = canvas.toDataURL('image/png');
    }
    return { url, resolution: view.getResolution(), center: view.getCenter(), basemap: shown.length > 0 && shown[0].getVisible() };
  } finally {
    shown.forEach((b) => b.setVisible(true));
    map.updateSize(); // back to the size of its element on the page
    view.setCenter(before.center);
    view.setResolution(before.resolution);
  }
}
