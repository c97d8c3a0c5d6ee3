#!/bin/sh
# A backup of the site's PostgreSQL database (README, "Backup and restore"). Run it nightly,
# after the retention purge would run anyway:
#   DATABASE_URL=postgres://… scripts/backup.sh /var/backups/outreach
# 1. The retention purge first, so the dump holds no personal data the site has already promised
#    to erase. 2. pg_dump in its custom format (pg_restore reads it), a consistent snapshot taken
#    while the site serves and takes RSVPs; written under a temporary name, renamed when complete.
# 3. Dumps older than BACKUP_KEEP_DAYS (7; never more than RSVP_RETENTION_DAYS) are deleted.
set -eu
dir=${1:?usage: scripts/backup.sh DIRECTORY}
keep=${BACKUP_KEEP_DAYS:-7}
python=${PYTHON:-python}
: "${DATABASE_URL:?DATABASE_URL must name the database (postgres://user:password@host:port/name)}"

dir=$(cd "$dir" && pwd)
cd "$(dirname "$0")/.."
"$python" manage.py purge_rsvp_personal_data
name="$dir/outreach-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" --file="$name.partial"
mv "$name.partial" "$name"
# -mtime +N matches files more than N+1 days old: +(keep-1) deletes those older than `keep` days.
find "$dir" -maxdepth 1 -name 'outreach-*.dump' -mtime +"$((keep - 1))" -delete
echo "$name"
