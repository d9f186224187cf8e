"""A webhook receiver that checks every request with the `standardwebhooks` package from PyPI,
an implementation independent of ours, the way a customer's receiver would.

Started by shared/core/tests/dispatcher/webhook_signatures.rs with WEBHOOK_SECRET (one `whsec_` secret). Prints
`listening on PORT` once it serves on 127.0.0.1. POST /webhook: 202 with a messageId when the
request verifies, 401 with the library's reason when it does not. GET /verdicts: every verdict
so far, as JSON. Needs the package: scripts/python-tools installs it into the tests' venv.
"""

import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])
VERDICTS = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        verdict = {
            "webhook_id": headers.get("webhook-id"),
            "idempotency_key": headers.get("idempotency-key"),
            "signatures": len(headers.get("webhook-signature", "").split()),
        }
        try:
            WEBHOOK.verify(body, headers)
            verdict.update(verified=True, error=None)
            self.answer(202, {"message": "Accepted", "messageId": str(uuid.uuid4())})
        except WebhookVerificationError as err:
            verdict.update(verified=False, error=str(err))
            self.answer(401, {"message": "signature did not verify", "error": str(err)})
        with LOCK:
            VERDICTS.append(verdict)

    def do_GET(self):
        with LOCK:
            self.answer(200, VERDICTS)

    def answer(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
