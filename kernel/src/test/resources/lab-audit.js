// Runs in JupyterLab's page (LabBrowser.eval): what a reader of the open notebook sees, as JSON.
// Contrast: WCAG 2 ratio between an element's text colour (its alpha and every ancestor's opacity
// applied) and the background behind it (every ancestor's background composited from the page).
(() => {
  const parse = s => {
    const m = /rgba?\(([^)]+)\)/.exec(s || "");
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(x => x).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const lum = c => {
    const a = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = el => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.push(e);
    let c = [255, 255, 255];
    for (const e of chain.reverse()) {
      const b = parse(getComputedStyle(e).backgroundColor);
      if (b[3] > 0) c = over(b, c);
    }
    return c;
  };
  const opacity = el => { let o = 1; for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };
  const hex = c => "#" + c.map(v => Math.round(v).toString(16).padStart(2, "0")).join("");

  const outputs = [...document.querySelectorAll(".jp-Notebook .jp-OutputArea-output")];
  const roots = outputs.flatMap(o => [...o.querySelectorAll('[class^="kiln-"]')].filter(e => !e.parentElement.closest('[class^="kiln-"]')));
  const texts = [];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
      if (!own) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue; // collapsed <details>
      const bg = background(el);
      const fg = parse(getComputedStyle(el).color);
      fg[3] *= opacity(el);
      const seen = over(fg, bg);
      const kind = el.closest(".kiln-chart") ? "chart" : el.closest("th") ? "header" : el.closest("td") ? "cell"
        : el.closest("code") ? "code" : el.closest(".kiln-error") ? "error" : "text";
      texts.push({text: own.slice(0, 60), kind, contrast: Math.round(ratio(seen, bg) * 100) / 100, color: hex(seen), background: hex(bg),
        root: root.className});
    }
  }
  texts.sort((a, b) => a.contrast - b.contrast);

  const charts = [...document.querySelectorAll(".jp-Notebook .jp-OutputArea-output .kiln-chart")].map(c => {
    const r = c.getBoundingClientRect();
    const parts = [...c.children];
    const inside = parts.filter(p => {
      const q = p.getBoundingClientRect();
      return q.left >= r.left - 1 && q.right <= r.right + 401 && q.top >= r.top - 1 && q.bottom <= r.bottom + 1;
    }).length;
    return {label: (c.getAttribute("aria-label") || c.getAttribute("title") || "").slice(0, 80), width: r.width, height: r.height,
      position: getComputedStyle(c).position, parts: parts.length,
      absolute: parts.filter(p => getComputedStyle(p).position === "absolute").length,
      filled: parts.filter(p => parse(getComputedStyle(p).backgroundColor)[3] > 0 || parseFloat(getComputedStyle(p).borderTopWidth) > 0
        || parseFloat(getComputedStyle(p).borderLeftWidth) > 0).length,
      inside};
  });

  return {
    theme: document.body.dataset.jpThemeName || "",
    themeLight: document.body.dataset.jpThemeLight || "",
    outputs: outputs.length,
    kilnRoots: roots.length,
    tables: document.querySelectorAll(".jp-Notebook .kiln-table").length,
    inlineSvg: document.querySelectorAll(".jp-Notebook .jp-RenderedHTMLCommon svg").length,
    themedStylesKept: [...document.querySelectorAll(".jp-Notebook .jp-OutputArea-output [style]")]
      .filter(e => e.getAttribute("style").includes("var(--jp-")).length,
    untrustedSvgNotices: outputs.filter(o => o.textContent.includes("Cannot display an untrusted SVG")).length,
    texts: texts.length,
    worst: texts.slice(0, 12),
    charts,
    sideBySide: [...document.querySelectorAll(".jp-Notebook .jp-OutputArea-output .kiln-side-by-side")].map(c =>
      ({columns: c.children.length, tops: [...c.children].map(k => Math.round(k.getBoundingClientRect().top))})),
  };
})()
