"""Open Badges 3.0 signing: a W3C Verifiable Credential secured with a DataIntegrityProof using the
eddsa-rdfc-2022 cryptosuite (RDFC-1.0 canonicalization, SHA-256, Ed25519, base58btc multibase).

JSON-LD contexts are vendored in certificates/contexts/ and served by `document_loader`: nothing
is ever fetched. A context this loader does not know is an error, never a network call."""

import copy
import hashlib
import json
import threading
from functools import cache
from pathlib import Path

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

CONTEXT_DIR = Path(__file__).resolve().parent / "contexts"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
CONTEXT_FILES = {VC_V2: "credentials-v2.jsonld", OB_V3: "ob-context-3.0.3.json"}
CRYPTOSUITE = "eddsa-rdfc-2022"
# multicodec prefix of an Ed25519 public key (0xed 0x01), as in did:key and Multikey documents.
ED25519_PUB_PREFIX = b"\xed\x01"


class ContextNotVendored(Exception):
    pass


@cache
def _context(url: str) -> dict:
    return json.loads((CONTEXT_DIR / CONTEXT_FILES[url]).read_text())


def document_loader(url: str, options=None) -> dict:
    """pyld document loader over the vendored contexts only."""
    if url not in CONTEXT_FILES:
        raise ContextNotVendored(f"JSON-LD context {url!r} is not vendored; refusing to fetch it")
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_context(url))}


# pyld keeps resolved and inverse contexts in process-wide cachetools LRU caches, which are not
# thread-safe: two threads evicting at once raise "OrderedDict mutated during iteration" or a
# KeyError. Canonicalization is pure-Python CPU work under the GIL, so one lock costs no parallelism.
_PYLD_LOCK = threading.Lock()


def canonicalize(document: dict) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document."""
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        "safe": True,
    }
    with _PYLD_LOCK:
        return jsonld.normalize(document, options)


def multibase_encode(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode()


def multibase_decode(value: str) -> bytes:
    if not value.startswith("z"):
        raise ValueError("only base58btc multibase (z...) is supported")
    return base58.b58decode(value[1:])


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return multibase_encode(ED25519_PUB_PREFIX + public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    raw = multibase_decode(value)
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def _hash_data(document: dict, proof_options: dict) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    options["@context"] = document["@context"]
    proof_hash = hashlib.sha256(canonicalize(options).encode()).digest()
    doc_hash = hashlib.sha256(canonicalize(unsigned).encode()).digest()
    return proof_hash + doc_hash


def sign(document: dict, *, private_key: Ed25519PrivateKey, verification_method: str, created: str) -> dict:
    """Return a copy of `document` with an eddsa-rdfc-2022 DataIntegrityProof (assertionMethod)."""
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = private_key.sign(_hash_data(document, proof))
    signed = copy.deepcopy(document)
    signed["proof"] = {**proof, "proofValue": multibase_encode(signature)}
    return signed


def verify(document: dict, *, resolve_key) -> bool:
    """Check the document's eddsa-rdfc-2022 proof. `resolve_key(verification_method)` returns the
    Ed25519PublicKey for that method, or None when it is unknown. Any malformed input is False."""
    proof = document.get("proof") if isinstance(document, dict) else None
    if not isinstance(proof, dict) or proof.get("type") != "DataIntegrityProof":
        return False
    if proof.get("cryptosuite") != CRYPTOSUITE or proof.get("proofPurpose") != "assertionMethod":
        return False
    public_key = resolve_key(proof.get("verificationMethod"))
    if public_key is None:
        return False
    try:
        signature = multibase_decode(proof.get("proofValue") or "")
        public_key.verify(signature, _hash_data(document, proof))
    except (InvalidSignature, ValueError, jsonld.JsonLdError, ContextNotVendored, TypeError, KeyError):
        return False
    return True
