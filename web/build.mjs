// Bundles the dashboard into server/wwwroot (app.js, app.css). The server's build runs this (see
// server/SensorHub.Server.csproj); `npm run build` does the same by hand.
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  outfile: "../server/wwwroot/app.js",
  logLevel: "warning",
});
