-- GE events that missed a federal timeline but carry no non-compliance reason.
SELECT count(*) FILTER (WHERE timeline_missed) AS missed,
    count(*) FILTER (WHERE timeline_missed AND non_compliance_id = '**') AS without_reason
FROM emis_ge
