// Bundles the dashboard into server/wwwroot (app.js, app.css). The server's build runs this (see
// server/SensorHub.Server.csproj); `npm run build` does the same by hand.
//
// The dashboard is built on the browser library @sensorhub/client (clients/js). Its TypeScript sources are bundled
// straight from clients/js/src (esbuild strips the types; the library's own build and tests type-check them), so the
// server's build needs neither a library build nor an install in clients/js. The library's dependencies are resolved
// from web/node_modules, which must pin the very versions clients/js/package.json names: checked here, so that the
// dashboard never runs the library on other versions than the library's tests do.
import * as esbuild from "esbuild";
import { readFileSync } from "node:fs";

const readJson = file => JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8"));
const library = readJson("../clients/js/package.json");
const web = readJson("package.json");

const alias = { [library.name]: "../clients/js/src/index.ts" };
const mismatches = [];
for (const [name, version] of Object.entries(library.dependencies ?? {})) {
  if (web.dependencies?.[name] !== version) mismatches.push(`${name}: ${version} in clients/js, ${web.dependencies?.[name] ?? "missing"} in web`);
  // Resolved from web/node_modules, wherever the importing file is (clients/js may have no node_modules of its own).
  alias[name] = `./node_modules/${name}`;
}
if (mismatches.length > 0) {
  console.error(`web/package.json must pin the library's dependencies at the library's versions:\n  ${mismatches.join("\n  ")}`);
  process.exit(1);
}

await esbuild.build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  alias,
  minify: true,
  sourcemap: false,
  legalComments: "none",
  outfile: "../server/wwwroot/app.js",
  logLevel: "warning",
});
