// Render a Vega-Lite spec headless with the vega + vega-lite inlined in DVC's offline HTML page.
// Usage: node render_vega.js PAGE.html SPEC.json  ->  JSON list of rendered texts and points with page coordinates.
const fs = require("fs");
const vm = require("vm");
const [page, specFile] = process.argv.slice(2);
const html = fs.readFileSync(page, "utf8");
for (const m of html.matchAll(/<script>\/\* (vega(?:-lite)?@[^ ]+) \*\/\n([\s\S]*?)\n\s*<\/script>/g)) {
  vm.runInThisContext(m[2]); // UMD bundles: define the globals vega and vegaLite
}
const spec = JSON.parse(fs.readFileSync(specFile, "utf8"));
const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
view.runAsync().then(() => {
  const out = [];
  const walk = (mark, x, y, path) => {
    for (const item of mark.items || []) {
      const ix = x + (item.x || 0), iy = y + (item.y || 0);
      const where = path + "/" + (mark.role || "");
      if (mark.marktype === "text") out.push({ kind: "text", path: where, text: String(item.text), x: ix, y: iy });
      else if (mark.marktype === "symbol") out.push({ kind: "point", path: where, x: ix, y: iy });
      else if (mark.marktype === "group") for (const child of item.items || []) walk(child, ix, iy, where);
    }
  };
  walk(view.scenegraph().root, 0, 0, "");
  console.log(JSON.stringify(out));
});
