import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import type { HttpAnswer } from './system';
import { system } from './system';

// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON read back over HTTP
let document: any;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

/** The OpenAPI document as the running app serves it. */
export async function openApi() {
  if (!document) {
    const answer = await system().api.call('GET', '/api/openapi.json');
    expect(answer.status).to.equal(200);
    document = answer.body;
  }
  return document;
}

/** Checks that an answer is one the document describes: its status is listed and its body matches the schema. */
export async function expectSpec(method: string, path: string, answer: HttpAnswer): Promise<void> {
  const operation = (await openApi()).paths[path]?.[method.toLowerCase()];
  expect(operation, `${method} ${path} is documented`).to.exist;
  const response = operation.responses[String(answer.status)];
  expect(response, `${method} ${path} documents status ${answer.status}: ${answer.text}`).to.exist;
  const schema = response.content?.['application/json']?.schema;
  if (!schema) {
    expect(answer.text, `${method} ${path} ${answer.status} has no body`).to.equal('');
    return;
  }
  const validate = ajv.compile(schema);
  expect(validate(answer.body), `${method} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}`).to.equal(
    true,
  );
}
