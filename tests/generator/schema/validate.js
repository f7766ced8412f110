#!/usr/bin/env node
// Checks Kubernetes manifests against the strict Kubernetes 1.32 JSON schema
// (k8s-1.32-strict.schema.json.gz, made from the 1.32 OpenAPI): unknown fields, wrong types, missing
// required fields and unknown apiVersion/kind pairs are errors.
//
//   node validate.js --expect valid FILE...    every document of every file must pass
//   node validate.js --expect invalid FILE...  every file must fail, with an error containing the
//                                              text of its "# expect: ..." line (so it fails for the
//                                              reason the case was written for)
//
// Files are read as YAML 1.1, as kubectl does: an unquoted yes/off/0755 is a boolean or a number, so a
// string field written that way is a type error here too. Exit status 0 when all files are as expected.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const YAML = require('yaml');

const schemaId = 'k8s-1.32-strict';

function loadValidator() {
  const schemaFile = path.join(__dirname, `${schemaId}.schema.json.gz`);
  const schema = JSON.parse(zlib.gunzipSync(fs.readFileSync(schemaFile)).toString('utf8'));
  // strict: schema mistakes throw instead of being ignored; unions such as IntOrString are the
  // schema's own and allowed. allErrors: report every problem of a document, not the first.
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv); // int32, int64, byte, double, date-time are checked, not skipped
  ajv.addSchema(schema, schemaId);
  return ajv;
}

// The schema has one definition per apiVersion/kind, named "gvk:<apiVersion>/<kind>".
function validatorFor(ajv, manifest) {
  if (typeof manifest.apiVersion !== 'string' || typeof manifest.kind !== 'string') return null;
  const pointer = `gvk:${manifest.apiVersion}/${manifest.kind}`.replace(/~/g, '~0').replace(/\//g, '~1');
  return ajv.getSchema(`${schemaId}#/definitions/${pointer}`) || null;
}

function describe(manifest, index) {
  const name = manifest && manifest.metadata && manifest.metadata.name;
  return `document ${index + 1} (${manifest && manifest.kind}/${name})`;
}

function documentProblems(ajv, manifest, index) {
  const where = describe(manifest, index);
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    return [`${where}: not a mapping`];
  }
  const validate = validatorFor(ajv, manifest);
  if (!validate) return [`${where}: unknown apiVersion/kind ${manifest.apiVersion}/${manifest.kind}`];
  if (validate(manifest)) return [];
  return validate.errors.map((error) => {
    const extra = error.params && error.params.additionalProperty ? ` "${error.params.additionalProperty}"` : '';
    return `${where}: ${error.instancePath || '/'} ${error.message}${extra}`;
  });
}

function fileProblems(ajv, file) {
  const documents = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { version: '1.1', uniqueKeys: true });
  const problems = [];
  documents.forEach((document, index) => {
    for (const error of [...document.errors, ...document.warnings]) problems.push(`document ${index + 1}: ${error.message}`);
    problems.push(...documentProblems(ajv, document.toJS(), index));
  });
  if (documents.length === 0) problems.push('no YAML documents');
  return problems;
}

function expectedError(file) {
  const match = fs.readFileSync(file, 'utf8').match(/^# expect: (.+)$/m);
  if (!match) throw new Error(`${file} has no "# expect: <error text>" line`);
  return match[1].trim();
}

function checkValid(ajv, file) {
  const problems = fileProblems(ajv, file);
  if (problems.length === 0) {
    console.log(`ok: ${file}`);
    return true;
  }
  for (const problem of problems) console.log(`FAIL: ${file}: ${problem}`);
  return false;
}

function checkInvalid(ajv, file) {
  const expected = expectedError(file);
  const problems = fileProblems(ajv, file);
  const matching = problems.find((problem) => problem.includes(expected));
  if (matching) {
    console.log(`ok: ${file} rejected: ${matching}`);
    return true;
  }
  console.log(`FAIL: ${file} should be rejected with "${expected}" but got: ${problems.length ? problems.join('; ') : 'no error'}`);
  return false;
}

function main(argv) {
  const [flag, mode, ...files] = argv;
  if (flag !== '--expect' || !['valid', 'invalid'].includes(mode) || files.length === 0) {
    console.error('usage: validate.js --expect valid|invalid FILE...');
    return 2;
  }
  const ajv = loadValidator();
  const check = mode === 'valid' ? checkValid : checkInvalid;
  const results = files.map((file) => check(ajv, file));
  const failed = results.filter((passed) => !passed).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
