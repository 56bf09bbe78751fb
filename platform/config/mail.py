"""A console mail backend a person can read: embedded mode (`make run`) prints each e-mail as its
headers and its plain text, not as MIME. Django's own console backend prints the encoded message,
so a French e-mail arrives quoted-printable and its links break across lines with `=` (a newcomer
could not follow the sign-up confirmation link)."""

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class ReadableConsoleBackend(ConsoleBackend):
    def write_message(self, message):
        headers = {
            "From": message.from_email,
            "To": ", ".join(message.to),
            "Subject": message.subject,
            "Content-Type": 'text/plain; charset="utf-8"',
        }
        self.stream.write("".join(f"{name}: {value}\n" for name, value in headers.items()))
        self.stream.write(f"\n{message.body}\n")
        self.stream.write("-" * 79)
        self.stream.write("\n")
