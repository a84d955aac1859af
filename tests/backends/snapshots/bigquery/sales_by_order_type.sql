SELECT
  *
FROM (
  SELECT
    `t2`.`order_type`,
    `t2`.`orders`,
    `t2`.`customers`,
    `t2`.`revenue`,
    ieee_divide(
      CAST(FLOOR((
        ieee_divide(CAST(`t2`.`revenue` AS FLOAT64), `t2`.`orders`) * 1
      ) + 0.5) AS INT64),
      1
    ) AS `average_order_value`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t2`.`revenue` AS FLOAT64),
            NULLIF(
              SUM(`t2`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `revenue_share`
  FROM (
    SELECT
      `t1`.`order_type`,
      COUNT(`t1`.`order_id`) AS `orders`,
      COUNT(DISTINCT `t1`.`customer_id`) AS `customers`,
      SUM(`t1`.`total`) AS `revenue`
    FROM (
      SELECT
        `t0`.`order_id`,
        `t0`.`customer_id`,
        `t0`.`ordered_at`,
        `t0`.`status`,
        `t0`.`channel`,
        `t0`.`subtotal`,
        `t0`.`discount`,
        `t0`.`shipping_fee`,
        `t0`.`points_used`,
        `t0`.`total`,
        `t0`.`points_earned`,
        `t0`.`coupon_code`,
        `t0`.`subscription_id`,
        `t0`.`payment_method`,
        `t0`.`shipping_prefecture`,
        `t0`.`is_gift`,
        DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`,
        IF(`t0`.`subscription_id` IS NOT NULL, 'subscription', 'one_off') AS `order_type`
      FROM `orders` AS `t0`
      WHERE
        `t0`.`status` = 'completed'
        AND `t0`.`customer_id` IS NOT NULL
        AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
    ) AS `t1`
    GROUP BY
      1
  ) AS `t2`
) AS `t3`
ORDER BY
  `t3`.`revenue` DESC,
  `t3`.`order_type` ASC NULLS LAST
