# A short run of the damage test (make fault runs the long one): 4 rounds
# of bytes flipped at random in a spool's segment and .ack file; every
# acknowledged report is archived or named in spool/corrupt/, none silently
# lost, no daemon crashes.
export DAMAGE_ROUNDS=${DAMAGE_ROUNDS_SHORT:-4}
exec bash "$(dirname "$0")/../fault/damage.sh"
