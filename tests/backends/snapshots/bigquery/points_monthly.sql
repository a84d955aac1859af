SELECT
  `t3`.`month`,
  `t3`.`earned`,
  `t3`.`used`,
  `t3`.`expired`,
  `t3`.`adjusted`,
  `t3`.`net`,
  `t3`.`customers`,
  `t3`.`balance`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t3`.`used` AS FLOAT64), NULLIF(`t3`.`earned`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `usage_rate`
FROM (
  SELECT
    `t2`.`month`,
    `t2`.`earned`,
    `t2`.`used`,
    `t2`.`expired`,
    `t2`.`adjusted`,
    `t2`.`net`,
    `t2`.`customers`,
    SUM(`t2`.`net`) OVER (ORDER BY `t2`.`month` ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `balance`
  FROM (
    SELECT
      `t1`.`month`,
      SUM(IF(`t1`.`kind` = 'earn', `t1`.`points`, 0)) AS `earned`,
      -(
        SUM(IF(`t1`.`kind` = 'use', `t1`.`points`, 0))
      ) AS `used`,
      -(
        SUM(IF(`t1`.`kind` = 'expire', `t1`.`points`, 0))
      ) AS `expired`,
      SUM(IF(`t1`.`kind` = 'adjust', `t1`.`points`, 0)) AS `adjusted`,
      SUM(`t1`.`points`) AS `net`,
      COUNT(DISTINCT `t1`.`customer_id`) AS `customers`
    FROM (
      SELECT
        `t0`.`transaction_id`,
        `t0`.`customer_id`,
        `t0`.`occurred_at`,
        `t0`.`kind`,
        `t0`.`points`,
        `t0`.`expires_on`,
        `t0`.`order_id`,
        `t0`.`reason`,
        DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `day`,
        DATE_TRUNC(DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)), MONTH) AS `month`
      FROM `point_transactions` AS `t0`
      WHERE
        DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
    ) AS `t1`
    GROUP BY
      1
  ) AS `t2`
) AS `t3`
ORDER BY
  `t3`.`month` ASC NULLS LAST
