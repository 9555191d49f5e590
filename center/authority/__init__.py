"""The JPKI authority simulator (公的個人認証サービス, J-LIS): docs/authority.md.

==================  ===========================================================================
module              role
==================  ===========================================================================
``ca``              CA generations (same name, distinct keys), issuer chosen by key
``issuance``        the card's two end-entity certificates
``keys``            RSA keys, serials, key identifiers, PEM files (0600)
``names``           names, OIDs, validity rules of JPKI certificates
``municipality``    地方公共団体コード with its check digit
``reasons``         revocation reasons and the CRLReason written for them
``schema``          tables (SQLAlchemy Core); ``migrations/`` their Alembic history
``migrate``         engine setup and programmatic migration
``store``           every SQL statement: certificates, revocations, CRLs, verifiers
``ocsp``, ``crl``   the OCSP responder (RFC 6960) and CRLs per generation
``service``         ``AuthorityService``: issue, revoke, renew, status, OCSP, CRL, verifiers
``http``            FastAPI app and uvicorn server (the only web-framework import)
``errors``          one error hierarchy, each with a stable code and HTTP status
``testing``         fast authorities for tests (cached keys)
==================  ===========================================================================
"""
