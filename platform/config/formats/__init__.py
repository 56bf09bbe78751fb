"""The site's date and time formats, one set per language (FORMAT_MODULE_PATH): every page writes a
date the same way in a language. Day before month everywhere (as Morocco writes dates), a 24-hour
clock, and the Arabic long forms in Arabic word order (Django's own Arabic module has no date-time
format, so Arabic pages fell back to the English "N j, Y, P")."""
