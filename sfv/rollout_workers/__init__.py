"""Where the imitation's rollouts run: simulators in worker processes on this machine, or in Ray actors on a
cluster's nodes; the same seeds give the same rollouts on either."""
