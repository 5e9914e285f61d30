"""Identity: linking plan-system students to Campus sourcedIds."""
