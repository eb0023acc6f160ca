#!/usr/bin/env node
// scepserver's CSR verifier (-csrverifierexec): scepserver runs this for each certificate request, with the
// decrypted CSR (DER) on stdin, and issues the certificate only if it exits 0. The decision (does the CN's
// challenge match, and is it still unspent) is our API's, so this only forwards the CSR to SCEP_VERIFY_URL.
// 204 means issue; anything else, or no answer within 10 s, means refuse.
// Note: scepserver discards this program's output; the one-line reason on stderr is for running it by hand.
const url = process.env.SCEP_VERIFY_URL;
const key = process.env.SCEP_VERIFY_KEY;

function refuse(reason) {
  process.stderr.write(`scep-verify: refused: ${reason}\n`);
  process.exit(1);
}

async function main() {
  if (!url || !key) refuse('SCEP_VERIFY_URL and SCEP_VERIFY_KEY must be set');
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const csr = Buffer.concat(chunks);
  if (csr.length === 0) refuse('no CSR on stdin');
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/pkcs10' },
      body: csr,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    refuse(`${url}: ${error.cause?.message ?? error.message}`);
  }
  if (response.status !== 204) refuse(`${url} answered ${response.status}`);
  process.exit(0);
}

main().catch((error) => refuse(error.message));
