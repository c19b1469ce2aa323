"""The console e-mail backend of the embedded run, printing messages as a person reads them."""

import email.policy

from django.core.mail.backends import console

# Lines up to RFC 5322's 998 characters and 8-bit text stay as written: with the default
# policy (78 characters) a long link went out quoted-printable, broken across lines by
# soft line breaks ("=") and with "=3D" for "=", so it could not be followed from the console.
READABLE = email.policy.default.clone(cte_type="8bit", max_line_length=998)


class ConsoleEmailBackend(console.EmailBackend):
    def write_message(self, message):
        text = message.message(policy=READABLE).as_bytes().decode("utf-8", "replace")
        self.stream.write(f"{text}\n")
        self.stream.write("-" * 79)
        self.stream.write("\n")
