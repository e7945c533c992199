// Write a DICOM SR the way OHIF/Cornerstone does: through dcmjs's Cornerstone MeasurementReport adapter.
// Usage: node write_ohif_sr.js SPEC.json OUT.dcm
// SPEC: {"library": "dcmjs" | "dcmjs-legacy", "study_uid", "series_uid", "sop_class_uid",
//        "dataset": {DICOM keyword: value} (patient/study attributes OHIF copies from the images),
//        "measurements": [{"tool": "Length" | "Bidirectional", "sop_uid", "label",
//                          "start": [x, y], "end": [x, y], "length",
//                          "perp_start": [x, y], "perp_end": [x, y], "short"}]}
// Coordinates are Cornerstone image coordinates (pixels); lengths are what Cornerstone computed (mm).
"use strict";
const fs = require("fs");

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const dcmjs = require(spec.library);
const { MeasurementReport } = dcmjs.adapters.Cornerstone;

const point = ([x, y]) => ({ x, y });
const toolState = {};
for (const m of spec.measurements) {
  const imageId = `recist-test:${m.sop_uid}`;
  toolState[imageId] = toolState[imageId] || {};
  const label = { CodeValue: "CORNERSTONEFREETEXT", CodingSchemeDesignator: "CST4", CodeMeaning: m.label };
  let tool;
  if (m.tool === "Length") {
    tool = { handles: { start: point(m.start), end: point(m.end) }, length: m.length, finding: label };
  } else {
    tool = {
      handles: {
        start: point(m.start), end: point(m.end),
        perpendicularStart: point(m.perp_start), perpendicularEnd: point(m.perp_end),
      },
      longestDiameter: m.length, shortestDiameter: m.short, finding: label,
    };
  }
  toolState[imageId][m.tool] = toolState[imageId][m.tool] || { data: [] };
  toolState[imageId][m.tool].data.push(tool);
}

const metadataProvider = {
  get(type, imageId) {
    const sop = imageId.slice("recist-test:".length);
    if (type === "generalSeriesModule") {
      return { studyInstanceUID: spec.study_uid, seriesInstanceUID: spec.series_uid };
    }
    if (type === "sopCommonModule") return { sopInstanceUID: sop, sopClassUID: spec.sop_class_uid };
    return undefined;
  },
};

const report = MeasurementReport.generateReport(toolState, metadataProvider, {});
Object.assign(report.dataset, spec.dataset || {});
const buffer = dcmjs.data.datasetToBuffer(report.dataset);
fs.writeFileSync(process.argv[3], Buffer.from(buffer));
