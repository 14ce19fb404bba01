# A short run of the fault test (make fault runs the long one): 2,000
# reports, 4 random SIGKILLs, nothing lost and nothing stored twice.
export FAULT_N=${FAULT_N_SHORT:-2000} FAULT_KILLS=${FAULT_KILLS_SHORT:-4}
exec bash "$(dirname "$0")/../fault/fault.sh"
