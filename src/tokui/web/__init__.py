"""The web shell: server-rendered pages, sessions, CSRF, roles and i18n."""
