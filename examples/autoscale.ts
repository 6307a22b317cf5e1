import { createAutoscaler } from 'fleetscale/autoscale';

// Kubernetes' HPA algorithm on CPU and lag, between 2 and 20 replicas.
const scaler = createAutoscaler({ preset: 'hpa', min: 2, max: 20, targets: { cpu: 0.7, lag: 1000 } });

// Once per decision interval (HPA's is 15 s), with the latest metrics:
const decision = scaler.decide({ now: Date.now(), replicas: 4, metrics: { cpu: 0.9, lag: 7000 } });
console.log(`${decision.replicas} replicas: ${decision.reason}`);
