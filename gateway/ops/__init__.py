"""Operations: health, readiness and metrics endpoints, make run's launcher, the embedded Redis, the sample mail."""
