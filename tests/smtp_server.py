"""A real SMTP server on localhost for the mail tests: down until started, it then speaks enough
SMTP (EHLO/HELO, AUTH PLAIN/LOGIN accepted, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for smtplib and
Django's SMTP backend. `accept_limit` makes it accept that many messages and then answer 451 to
every further one; `refuse=True` answers 451 to every message."""

import email
import socketserver
import threading
from email import policy

from tests.processes import free_port


class SmtpServer:
    def __init__(self, *, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.accept_limit: int | None = None
        self.refuse = False
        self.sessions = 0
        # Called in the server's thread with each accepted message, before the 250 reply.
        self.on_message = None
        self._server = None

    @property
    def recipients(self) -> list[str]:
        return [m["To"] for m in self.messages]

    def start(self):
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                smtp.sessions += 1
                self.reply("220 kafaat-test ESMTP")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode(errors="replace").rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.reply("250-kafaat-test")
                        self.reply("250-AUTH PLAIN LOGIN")
                        self.reply("250 8BITMIME")
                    elif verb == "HELO":
                        self.reply("250 kafaat-test")
                    elif verb == "AUTH":
                        self.reply("235 2.7.0 accepted")
                    elif verb == "MAIL":
                        if smtp.refuse or (smtp.accept_limit is not None and len(smtp.messages) >= smtp.accept_limit):
                            self.reply("451 4.3.0 try again later")
                        else:
                            self.reply("250 OK")
                    elif verb == "RCPT":
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        lines = []
                        while True:
                            data = self.rfile.readline()
                            if data in (b".\r\n", b".\n", b""):
                                break
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        message = email.message_from_bytes(b"".join(lines), policy=policy.default)
                        if smtp.on_message is not None:
                            smtp.on_message(message)
                        smtp.messages.append(message)
                        self.reply("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def mailer(self) -> dict:
        """A MAILERS entry that sends through this server."""
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": self.host, "port": self.port, "timeout": 5},
        }
