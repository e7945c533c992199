// Parse a DICOM SR the way OHIF hydrates one: dcmjs's Cornerstone3D MeasurementReport.generateToolState.
// Usage: node read_sr.js SR.dcm GEOMETRY.json  ->  JSON on stdout: [{"id", "tool", "length", "width"}]
// GEOMETRY: {sop_uid: {"frame_of_reference_uid", "origin": [x, y, z], "row_cosines", "column_cosines",
//            "row_spacing", "column_spacing"}} of the referenced images (what OHIF's metadata provider gives).
// Our tracking identifiers are lesion ids, not Cornerstone tool tags, so the getToolClass hook chooses the
// tool from the measurement concepts, as OHIF's SR parser did for SRs of other tools: Long Axis and Short
// Axis each with a SCOORD -> Bidirectional; a first NUM with a SCOORD -> Length; else not drawable.
"use strict";
const fs = require("fs");
const dcmjs = require("dcmjs");

const [srPath, geometryPath] = process.argv.slice(2);
const geometry = JSON.parse(fs.readFileSync(geometryPath, "utf8"));
const bytes = fs.readFileSync(srPath);
const dicom = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dicom.dict);

const toArray = (x) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const concept = (item) => toArray(item.ConceptNameCodeSequence)[0] || {};
const hasScoord = (item) => toArray(item.ContentSequence).some((c) => c.ValueType === "SCOORD");

const imageIds = {};
for (const sop of Object.keys(geometry)) imageIds[sop] = `recist-test:${sop}`;
const metadata = {
  get(type, imageId) {
    const g = geometry[(imageId || "").slice("recist-test:".length)];
    if (type === "imagePlaneModule" && g) return { frameOfReferenceUID: g.frame_of_reference_uid };
    return undefined;
  },
};
const imageToWorldCoords = (imageId, [column, row]) => {
  const g = geometry[imageId.slice("recist-test:".length)];
  return [0, 1, 2].map(
    (i) => g.origin[i] + column * g.column_spacing * g.row_cosines[i] + row * g.row_spacing * g.column_cosines[i]
  );
};

const order = [];
const skipped = [];
const hooks = {
  getToolClass(group, _dataset, toolClasses) {
    const items = toArray(group.ContentSequence);
    const id = (items.find((i) => concept(i).CodeValue === "112039") || {}).TextValue;
    const nums = items.filter((i) => i.ValueType === "NUM");
    const named = (meaning) => nums.find((i) => concept(i).CodeMeaning === meaning);
    const byType = (type) => toolClasses.find((c) => c.toolType === type);
    let tool;
    if (named("Long Axis") && named("Short Axis") && hasScoord(named("Long Axis")) && hasScoord(named("Short Axis"))
        && nums[0] === named("Long Axis")) {
      tool = byType("Bidirectional");
    } else if (nums.length && hasScoord(nums[0])) {
      tool = byType("Length");
    }
    if (tool) order.push({ id, tool: tool.toolType });
    else skipped.push({ id, reason: nums.length ? "no SCOORD on its first measurement" : "no measurement" });
    return tool;
  },
};

const log = console.log;
console.log = () => {}; // generateToolState prints every measurement
const state = dcmjs.adapters.Cornerstone3D.MeasurementReport.generateToolState(
  dataset, imageIds, imageToWorldCoords, metadata, hooks
);
console.log = log;
const counters = {};
const out = order.map(({ id, tool }) => {
  const k = (counters[tool] = (counters[tool] || 0) + 1) - 1;
  const measurement = state[tool][k];
  const stats = Object.values(measurement.annotation.data.cachedStats)[0];
  return { id, tool, length: Number(stats.length), width: stats.width === undefined ? null : Number(stats.width),
           points: measurement.annotation.data.handles.points.length };
});
process.stdout.write(JSON.stringify({ measurements: out, skipped }));
